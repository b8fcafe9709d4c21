#!/usr/bin/python3
"""Write src/core/model/__fixtures__/parity_tiny.json: weights, inputs and expected outputs of the
PyTorch reference (shared/reference/mfmb_ref.py) for the TypeScript model's parity test.

Run with Debian's interpreter (torch 1.13), from the repo root:
    /usr/bin/python3 scripts/make_parity_fixture.py [--ref DIR] [--out FILE]
The reference is imported at run time from ../shared/reference (relative to the repo root); override
with --ref DIR or the env var MFMB_REF_DIR. It is never copied into this repo.

Float arrays are stored as {"shape": [...], "dtype": "float32", "data": base64(little-endian float32)}.
Parameters are stored by their PyTorch names in PyTorch layout (Linear weight [out, in], packed MHA
in_w [3w, w], GRU weight_ih [3h, in] in gate order r, z, n, Conv1d weight [out, in, k]); the TS side
transposes.
"""
from __future__ import annotations

import argparse
import base64
import dataclasses
import os
import platform
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_REF = REPO.parent / 'shared' / 'reference'
DEFAULT_OUT = REPO / 'src' / 'core' / 'model' / '__fixtures__' / 'parity_tiny.json'
MAX_BYTES = 2_000_000  # "under 2 MB", decimal to be safe

SEED = 111
B = 6
DIMS = (16, 5, 20)
LENS = (8, 12, 10)
LENGTHS = ([8, 5, 3, 8, 1, 6], [12, 7, 12, 2, 9, 4], [10, 10, 3, 6, 1, 8])
RATE = 0.3
MASK_SEEDS = (111, 1111, 11111)
DATA_SEED = 0
DROPOUT_FIELDS = ('text_dropout', 'dropout', 'attn_dropout', 'self_attn_dropout', 'fusion_dropout',
                  'head_dropout', 'macro_dropout')
SETTINGS = (
    ('all_on', dict(macro=True, micro=True, recon=True)),
    ('macro_off', dict(macro=False, micro=True, recon=True)),
    ('micro_off', dict(macro=True, micro=False, recon=True)),
    ('recon_off', dict(macro=True, micro=True, recon=False)),
)
# Gradients stored for the three ablations (those that exist in the ablated model); all_on stores all.
ABLATION_GRADS = (
    'proj.t.weight',
    'hpa.nets.ta.layers.0.attn.in_w',
    'macro.hub',
    'macro.maps.a.weight',
    'macro.hub_tf.t.layers.0.attn.out.weight',
    'micro.rnn.t.weight_ih_l0',
    'micro.rnn.v.weight_hh_l0_reverse',
    'micro.gate.a.weight',
    'micro.mix.tv.0.weight',
    'recon.v.q.weight',
    'head.1.weight',
    'head.4.weight',
)
# snake_case (reference Config) -> path in the TS ModelConfig / TrainConfig (src/core/config/config.ts)
CAMEL = {
    'dims': 'model.dims', 'lens': 'model.lens', 'd': 'model.d', 'hpa_heads': 'model.hpaHeads',
    'hpa_layers': 'model.hpaLayers', 'alignment': 'model.alignment', 'causal_mask': 'model.causalMask',
    'hub_heads': 'model.hubHeads', 'hub_layers': 'model.hubLayers', 'macro_enc_layers': 'model.macroEncLayers',
    'hub_k': 'model.hubK', 'hub_init': 'model.hubInit', 'hub_order': 'model.hubOrder',
    'rnn_hidden': 'model.rnnHidden', 'rnn_layers': 'model.rnnLayers', 'cell': 'model.cell',
    'common': 'model.common', 'mixer': 'model.mixer', 'mixer_hidden': 'model.mixerHidden',
    'recon_hidden': 'model.reconHidden', 'head_hidden': 'model.headHidden', 'num_classes': 'model.numClasses',
    'macro': 'model.branches.macro', 'micro': 'model.branches.micro', 'recon': 'model.branches.recon',
    'text_dropout': 'model.textDropout', 'dropout': 'model.dropout', 'attn_dropout': 'model.attnDropout',
    'self_attn_dropout': 'model.selfAttnDropout', 'macro_dropout': 'model.macroDropout',
    'fusion_dropout': 'model.fusionDropout', 'head_dropout': 'model.headDropout',
    'alpha': 'train.alpha', 'recon_warmup_epochs': 'train.reconWarmupEpochs',
}


def import_reference(ref_dir: Path):
    if not (ref_dir / 'mfmb_ref.py').is_file():
        sys.exit(f'mfmb_ref.py not found in {ref_dir} (pass --ref DIR or set MFMB_REF_DIR)')
    sys.path.insert(0, str(ref_dir))
    import mfmb_ref  # noqa: E402  (imported at run time, never copied)
    return mfmb_ref


def enc(a) -> dict:
    """float array -> {shape, dtype, data: base64 of little-endian float32}."""
    if hasattr(a, 'detach'):
        a = a.detach().cpu().numpy()
    a = np.ascontiguousarray(np.asarray(a, dtype='<f4'))
    return {'shape': list(a.shape), 'dtype': 'float32', 'data': base64.b64encode(a.tobytes()).decode('ascii')}


def dec(e: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(e['data']), dtype='<f4').reshape(e['shape'])


def no_dropout(cfg):
    return dataclasses.replace(cfg, **{k: ((0.0,) * 3 if k == 'attn_dropout' else 0.0) for k in DROPOUT_FIELDS})


def jsonable(cfg) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(cfg).items()}


def state_of(model) -> dict:
    """state_dict without num_batches_tracked, cloned."""
    return {k: v.detach().clone() for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}


def make_inputs(R):
    rng = np.random.RandomState(DATA_SEED)
    clean = [rng.randn(B, L, D).astype(np.float32) for L, D in zip(LENS, DIMS)]
    lengths = [np.asarray(l, dtype=np.int64) for l in LENGTHS]
    for x, l in zip(clean, lengths):
        assert len(l) == B and l.min() >= 1 and l.max() <= x.shape[1]
        for i, n in enumerate(l):
            x[i, n:] = 0.0  # padding content is zeros, as in real files
    y = rng.uniform(-3, 3, B).astype(np.float32)
    masked, drops = R.simulate_missing_all(clean, lengths, RATE, seeds=MASK_SEEDS, text_bert=False)
    return [m.astype(np.float32) for m in masked], clean, [d.astype(bool) for d in drops], lengths, y


def run_setting(R, torch, base_cfg, branches, full_sd, inputs, grads_all: bool):
    masked, clean, drops, lengths, y = inputs
    T = lambda a: torch.from_numpy(np.ascontiguousarray(a))
    X, C, M, Ls, Y = [T(x) for x in masked], [T(x) for x in clean], [T(d) for d in drops], \
        [T(l) for l in lengths], T(y)

    cfg = dataclasses.replace(base_cfg, **branches)
    model = R.build(cfg, seed=SEED)
    own = state_of(model)
    load, differing = {}, {}
    for k, v in own.items():
        if k in full_sd and tuple(full_sd[k].shape) == tuple(v.shape):
            load[k] = full_sd[k]
        else:
            differing[k] = v  # keeps the ablated model's own init (head BN / first Linear when width differs)
    missing, unexpected = model.load_state_dict(load, strict=False)
    assert not unexpected and all(k in differing or k.endswith('num_batches_tracked') for k in missing), missing
    sd = state_of(model)

    # (a) eval mode, before any train-mode forward (BatchNorm running stats untouched)
    model.eval()
    with torch.no_grad():
        pred_eval = model(*X, Ls)['pred']

    # (b) train mode, every dropout 0, BatchNorm on batch statistics, full loss incl. L_gen
    cfg0 = no_dropout(cfg)
    m0 = R.build(cfg0, seed=SEED)
    assert set(state_of(m0)) == set(sd)
    m0.load_state_dict(sd, strict=False)
    for k, v in state_of(m0).items():
        assert torch.equal(v, sd[k]), k
    m0.train()
    m0.zero_grad(set_to_none=True)
    out = m0(*X, Ls)
    loss, parts = R.mfmb_loss(out, Y, cfg0, C, M, epoch=None)
    loss.backward()

    params = dict(m0.named_parameters())
    no_grad = [k for k, p in params.items() if p.grad is None]
    assert not no_grad, f'parameters without gradient: {no_grad}'
    names = list(params) if grads_all else [k for k in ABLATION_GRADS if k in params]
    bn_after = {k: v for k, v in state_of(m0).items() if 'running_' in k}

    entry = {
        'branches': branches,
        'param_count': sum(p.numel() for p in params.values()),
        'state_names': list(sd),
        'own_weights': {k: enc(v) for k, v in differing.items()},
        'eval': {'pred': enc(pred_eval)},
        'train': {
            'dropout_zeroed': list(DROPOUT_FIELDS),
            'epoch': None,
            'loss': float(loss.detach()),
            'parts': {k: float(v) for k, v in parts.items()},
            'pred': enc(out['pred']),
            'grads_complete': grads_all,
            'grads': {k: enc(params[k].grad) for k in names},
            'bn_running_after': {k: enc(v) for k, v in bn_after.items()},
        },
    }
    return entry, cfg, model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--ref', default=os.environ.get('MFMB_REF_DIR', str(DEFAULT_REF)),
                    help='directory holding mfmb_ref.py (default ../shared/reference; env MFMB_REF_DIR)')
    ap.add_argument('--out', default=str(DEFAULT_OUT))
    args = ap.parse_args()

    R = import_reference(Path(args.ref).resolve())
    import torch
    torch.set_num_threads(1)
    import json

    base_cfg = R.preset('tiny', dims=DIMS, lens=LENS)
    inputs = make_inputs(R)
    masked, clean, drops, lengths, y = inputs

    full = R.build(base_cfg, seed=SEED)
    full_sd = state_of(full)
    del full

    settings, cfgs = {}, {}
    for name, br in SETTINGS:
        entry, cfg, _ = run_setting(R, torch, base_cfg, br, full_sd, inputs, grads_all=(name == 'all_on'))
        settings[name], cfgs[name] = entry, cfg

    doc = {
        'format': 'mfmb-parity/1',
        'about': 'PyTorch reference (shared/reference/mfmb_ref.py) outputs for the TS parity test. '
                 'Tensors: {shape, dtype: float32, data: base64 little-endian}. Weights by PyTorch state_dict '
                 'name in PyTorch layout (the TS side transposes). Each setting loads every tensor of `weights` '
                 'whose name is in its state_names, except those in its own_weights (different shape), which '
                 'replace them. Eval pred: model.eval(), no_grad, masked inputs + lengths. Train: every dropout '
                 '0, BatchNorm on batch statistics, loss = mfmb_loss(out, y, cfg, clean, drop, epoch=None) '
                 '(L_gen included), gradients after loss.backward().',
        'generator': {
            'script': 'scripts/make_parity_fixture.py',
            'reference': 'shared/reference/mfmb_ref.py',
            'torch': torch.__version__,
            'numpy': np.__version__,
            'python': platform.python_version(),
        },
        'preset': 'tiny',
        'seed': SEED,
        'config': jsonable(base_cfg),
        'config_camel': CAMEL,
        'config_note': 'config is the reference Config (snake_case) for all_on; config_camel maps each key to '
                       'the TS RunConfig path (macro/micro/recon -> model.branches.*; alpha and '
                       'recon_warmup_epochs live in train). Ablations change only branches.',
        'B': B,
        'dims': list(DIMS),
        'lens': list(LENS),
        'mask': {'rate': RATE, 'seeds': list(MASK_SEEDS), 'text_bert': False, 'level': 'frame', 'fill': 'zero',
                 'generator': 'numpy RandomState(seed).random_sample((B, L)); drop iff u <= rate and t < len'},
        'data_seed': DATA_SEED,
        'inputs': {
            'lengths': {m: [int(v) for v in l] for m, l in zip('tav', lengths)},
            'x': {m: enc(v) for m, v in zip('tav', masked)},
            'clean': {m: enc(v) for m, v in zip('tav', clean)},
            'drop': {m: enc(v.astype(np.float32)) for m, v in zip('tav', drops)},
            'y': enc(y),
        },
        'weights': {k: enc(v) for k, v in full_sd.items()},
        'settings': settings,
    }

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, separators=(',', ':'))
    out.write_text(text + '\n')
    size = out.stat().st_size

    # round-trip check
    back = json.loads(out.read_text())
    for k, v in full_sd.items():
        assert np.array_equal(dec(back['weights'][k]), v.numpy()), k

    # summary
    n_w = sum(v.numel() for v in full_sd.values())
    print(f'reference: {R.__file__}  torch {torch.__version__}')
    print(f'inputs: B={B} dims={DIMS} lens={LENS} rate={RATE} dropped per modality: '
          + ', '.join(f'{m}={int(d.sum())}/{int(sum(l))}' for m, d, l in zip('tav', drops, lengths)))
    print(f'weights: {len(full_sd)} tensors, {n_w} floats')
    for name, e in settings.items():
        t = e['train']
        n_g = sum(int(np.prod(g['shape'])) for g in t['grads'].values())
        print(f'{name:10s} params={e["param_count"]:7d} own_weights={list(e["own_weights"])} '
              f'loss={t["loss"]:.6f} parts=' + ' '.join(f'{k}={v:.6f}' for k, v in t['parts'].items())
              + f' grads={len(t["grads"])} ({n_g} floats) eval_pred={dec(e["eval"]["pred"]).ravel().round(4).tolist()}')
    print(f'wrote {out}: {size} bytes ({size / 1024 / 1024:.3f} MiB)')
    if size >= MAX_BYTES:
        sys.exit(f'fixture is {size} bytes, over the 2 MB (2,000,000 bytes) limit: store fewer ablation gradients')


if __name__ == '__main__':
    main()
