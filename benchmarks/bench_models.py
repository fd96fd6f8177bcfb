#!/usr/bin/env python
"""Parameters and training throughput (windows/s, forward + backward + Adam step) of TFiLMUNet,
ConvUNet and a plain LSTM network of similar size.

Not a test: it prints a table. Inputs: a ChIP-seq window (4 marks x 1000 bins of 25 bp) and an
audio patch (1 channel x 8192 samples at 16 kHz). Runs on the CPU, and on CUDA where present.

    python benchmarks/bench_models.py [--steps 10] [--batch-chip 32] [--batch-audio 8] [--threads 2]

The TFiLM paper (Birnbaum et al., "Temporal FiLM: Capturing Long-Range Sequence Dependencies with
Feature-Wise Modulations", NeurIPS 2019, arXiv:1909.06628, Table 5) reports TFiLM training faster
per epoch than an LSTM of similar size; the last column lets you check that here.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from chipsr.core.models import ConvUNet, TFiLMUNet, count_parameters


class LSTMNet(nn.Module):
    """A plain sequence model: per-position linear embedding -> bidirectional LSTM -> linear.
    (N, C_in, L) -> (N, C_out, L)."""

    def __init__(self, in_channels: int, out_channels: int, hidden: int, layers: int = 2):
        super().__init__()
        self.embed = nn.Linear(in_channels, hidden)
        self.lstm = nn.LSTM(hidden, hidden, num_layers=layers, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, out_channels)

    def forward(self, x):
        h, _ = self.lstm(self.embed(x.transpose(1, 2)))
        return self.out(h).transpose(1, 2)


def lstm_like(target_params: int, in_channels: int) -> LSTMNet:
    """The 2-layer bidirectional LSTMNet whose parameter count is closest to ``target_params``."""
    best = None
    for hidden in range(8, 1025, 8):
        net = LSTMNet(in_channels, 1, hidden)
        gap = abs(count_parameters(net) - target_params)
        if best is None or gap < best[0]:
            best = (gap, hidden)
    return LSTMNet(in_channels, 1, best[1])


def throughput(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, device: torch.device) -> float:
    """Training windows per second (forward, MSE, backward, Adam step), after 2 warm-up steps."""
    model.to(device).train()
    x, y = x.to(device), y.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    for i in range(steps + 2):
        if i == 2:
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        opt.zero_grad()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss = nn.functional.mse_loss(model(x).float(), y)
        loss.backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * len(x) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-chip", type=int, default=32)
    parser.add_argument("--batch-audio", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    setups = [
        ("ChIP-seq 4x1000", 4, 1000, args.batch_chip,
         dict(depth=3, n_blocks=2, width=0.25)),
        ("audio 1x8192", 1, 8192, args.batch_audio,
         dict(depth=4, n_blocks=32, width=0.125)),
    ]
    print(f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}")
    print(f"{'input':<17}{'model':<11}{'params':>10}{'device':>8}{'windows/s':>11}{'vs LSTM':>9}")
    for name, channels, length, batch, kw in setups:
        torch.manual_seed(0)
        x = torch.randn(batch, channels, length)
        y = torch.randn(batch, 1, length)
        tfilm = TFiLMUNet(in_channels=channels, out_channels=1, **kw)
        conv = ConvUNet(in_channels=channels, out_channels=1, **{k: v for k, v in kw.items() if k != "n_blocks"})
        lstm = lstm_like(count_parameters(tfilm), channels)
        for device in devices:
            rates = {}
            for label, model in (("TFiLMUNet", tfilm), ("ConvUNet", conv), ("LSTM", lstm)):
                rates[label] = throughput(model, x, y, args.steps, device)
            for label, model in (("TFiLMUNet", tfilm), ("ConvUNet", conv), ("LSTM", lstm)):
                print(f"{name:<17}{label:<11}{count_parameters(model):>10,}{device.type:>8}"
                      f"{rates[label]:>11.1f}{rates[label] / rates['LSTM']:>8.2f}x")


if __name__ == "__main__":
    main()
