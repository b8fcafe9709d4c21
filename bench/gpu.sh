#!/usr/bin/env bash
# `npm run bench:gpu [-- OUT.json]`: the browser benchmark on a real GPU, in one go, on a Linux
# machine with an NVIDIA GPU. Checks (and where it can, installs) what Chromium needs for WebGPU on
# Vulkan, then runs `bench:browser --gpu --require-gpu` on webgpu for tiny/aligned, base/aligned
# and base/unaligned and writes one JSON (default bench-gpu.json). See bench/README.md.
#
#   BENCH_GPU_RUNS   the runs (default webgpu:tiny:aligned,webgpu:base:aligned,webgpu:base:unaligned)
#   BENCH_GPU_ARGS   more bench:browser arguments (e.g. "--steps 10 --batch 24 --flag=--use-webgpu-adapter=...")
#   CHROMIUM_PATH    another Chromium (default /usr/bin/chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-bench-gpu.json}"
RUNS="${BENCH_GPU_RUNS:-webgpu:tiny:aligned,webgpu:base:aligned,webgpu:base:unaligned}"

say() { printf 'bench:gpu: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

# 1. The GPU and its driver.
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/bench:gpu: GPU: /'
else
  say "nvidia-smi not found: no NVIDIA driver visible (in a container: run it with --gpus all)."
fi

# 2. Vulkan: the loader (libvulkan1) and NVIDIA's ICD (from the driver; in a container the NVIDIA
#    runtime mounts it only when NVIDIA_DRIVER_CAPABILITIES includes "graphics", e.g. "all").
missing=()
ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null || missing+=(libvulkan1)
command -v vulkaninfo >/dev/null || missing+=(vulkan-tools)
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] || [ -n "${CHROMIUM_PATH:-}" ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (apt-get) ..."
  if ! { as_root apt-get update -qq && as_root apt-get install -y -qq "${missing[@]}"; }; then
    say "could not install ${missing[*]}: install them and run again."
    exit 2
  fi
fi
icd=$(ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -1 || true)
if [ -z "$icd" ]; then
  say "no NVIDIA Vulkan ICD (nvidia_icd.json) under /usr/share/vulkan/icd.d or /etc/vulkan/icd.d:"
  say "  install the driver's Vulkan part (e.g. libnvidia-gl-<version> matching the driver), or in a"
  say "  container set NVIDIA_DRIVER_CAPABILITIES=all (or compute,utility,graphics). Going on: Chromium"
  say "  will fall back to SwiftShader and --require-gpu will then fail the run."
else
  say "Vulkan ICD: $icd"
fi
if command -v vulkaninfo >/dev/null; then
  vulkaninfo --summary 2>/dev/null | grep -E 'deviceName|driverName|apiVersion' | sed 's/^ */bench:gpu: vulkan: /' || say "vulkaninfo found no Vulkan device"
fi

# 3. Node dependencies (npm ci if node_modules is missing), then the benchmark.
node bin/ensure-deps.js
# shellcheck disable=SC2086
node bin/run-ts.js bench/browser.ts --gpu --require-gpu --runs "$RUNS" --json "$OUT" ${BENCH_GPU_ARGS:-}
