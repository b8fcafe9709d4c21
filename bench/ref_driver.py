"""Step-by-step driver of the PyTorch reference for `npm run bench -- --reference`.

  /usr/bin/python3 bench/ref_driver.py REFERENCE_DIR

Reads one command per line on stdin and answers one line on stdout, so that the TypeScript bench can
alternate the two sides step by step (TS step, PyTorch step, ...) and both see the same machine load:
  setup PRESET SHAPE   build the model (seed 111) and the batch exactly as bench_ref.py does -> "ok PARAMS"
  train                one training step (bench_ref.train_step_fn)                           -> "ms FLOAT"
  infer                one inference batch (bench_ref.infer_fn)                              -> "ms FLOAT"
  quit
Runs torch on 1 thread (tfjs-wasm runs 1 thread).
"""
import sys
import time

sys.path.insert(0, sys.argv[1])
import torch  # noqa: E402

from bench_ref import SHAPES, infer_fn, make_batch, train_step_fn  # noqa: E402
from mfmb_ref import build, preset  # noqa: E402


def main():
    torch.set_num_threads(1)
    fns = {}
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == 'quit':
            break
        if cmd[0] == 'setup':
            cfg = preset(cmd[1], **SHAPES[cmd[2]])
            batch = make_batch(cfg)
            train_model, infer_model = build(cfg), build(cfg)
            fns = {'train': train_step_fn(train_model, batch), 'infer': infer_fn(infer_model, batch)}
            params = sum(p.numel() for p in train_model.parameters())
            print(f'ok {params}', flush=True)
        elif cmd[0] in fns:
            t0 = time.perf_counter()
            fns[cmd[0]]()
            print(f'ms {(time.perf_counter() - t0) * 1e3:.3f}', flush=True)
        else:
            print(f'error unknown command {cmd[0]}', flush=True)


if __name__ == '__main__':
    main()
