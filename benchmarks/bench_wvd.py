#!/usr/bin/env python
"""CPU cost of the learnable Wigner-Ville layer (``chipsr.core.wvd``) and of its training loss.

Not a test: it prints a table. Default configuration, ``LearnableWVD()`` at 16 kHz (64 Gabor
filters, 512-sample Hann frames, hop 128, S-method order 2, 9 taps):

- forward only, and forward + backward (into the input and the 4 x 64 parameters), in
  milliseconds per second of audio, on a batch of 1-s clips;
- ``LWVDLoss(16000)`` forward + backward (into the prediction) in milliseconds per
  8192-sample example (the audio training patch), on a batch of 8192-sample patches, beside the
  plain per-example RMSE loss for scale.

    OMP_NUM_THREADS=1 python benchmarks/bench_wvd.py [--threads 1] [--repeats 20] [--batch 16]
"""

from __future__ import annotations

import argparse
import time

import torch

from chipsr.core.wvd import LearnableWVD, LWVDLoss

SR = 16000


def best_ms(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` in ms over ``repeats`` runs after 2 warm-ups."""
    for _ in range(2):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return 1000.0 * times[len(times) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--batch", type=int, default=16, help="clips (1 s) / patches (8192 samples) per call")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    layer = LearnableWVD(sample_rate=SR)
    x = 0.1 * torch.randn(args.batch, SR)
    seconds = args.batch * 1.0

    def fwd():
        with torch.no_grad():
            layer(x)

    xg = x.clone().requires_grad_(True)

    def fwd_bwd():
        layer.zero_grad(set_to_none=True)
        xg.grad = None
        layer(xg).square().mean().backward()

    loss = LWVDLoss(SR)
    target = 0.1 * torch.randn(args.batch, 1, 8192)
    pred = (target + 0.01 * torch.randn_like(target)).requires_grad_(True)

    def loss_fb():
        pred.grad = None
        loss(pred, target).backward()

    def rmse_fb():
        pred.grad = None
        (pred - target).square().mean(dim=(1, 2)).sqrt().mean().backward()

    print(f"# {layer}")
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} thread(s), batch {args.batch}, "
          f"median of {args.repeats}")
    print("| what | cost |")
    print("| --- | --- |")
    print(f"| LearnableWVD forward | {best_ms(fwd, args.repeats) / seconds:.2f} ms per s of audio |")
    print(f"| LearnableWVD forward + backward | {best_ms(fwd_bwd, args.repeats) / seconds:.2f} ms per s of audio |")
    per_example = "ms per 8192-sample example"
    print(f"| LWVDLoss forward + backward | {best_ms(loss_fb, args.repeats) / args.batch:.2f} {per_example} |")
    print(f"| RMSE loss forward + backward (scale) | {best_ms(rmse_fb, args.repeats) / args.batch:.3f} {per_example} |")


if __name__ == "__main__":
    main()
