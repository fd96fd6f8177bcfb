"""Benchmark `chipsr audio upsample`: real-time factor and peak memory vs file length.

Builds low-res test inputs from real held-out LibriSpeech speech (examples/audio/speech_test.txt: 25
LibriSpeech train-clean-100 utterances, not shipped; examples/audio/README.md says where to download
them and where to put them), concatenated and looped and resampled with soxr to the model's low rate,
then super-resolves each in a fresh process (so peak RSS is that file's alone) and reports

- real-time factor = wall seconds of the whole command (model load, decode, resample, model,
  encode) / seconds of audio;
- peak resident memory (ru_maxrss) of the process.

Usage::

    python benchmarks/bench_audio.py [--model examples/audio/speech_r4_tfilm.pt] [--minutes 1 10]
        [--threads 1 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
import torch
from chipsr.api.audio import upsample
inp, out, model, threads, device = sys.argv[1:6]
t0 = time.perf_counter()
s = upsample(inp, out, model, device=None if device == "auto" else device, threads=int(threads))
s["wall_seconds"] = time.perf_counter() - t0
s["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
s["device_used"] = "cuda" if (device in ("auto", "cuda") and torch.cuda.is_available()) else "cpu"
print(json.dumps(s))
"""


def make_input(path: Path, minutes: float, rate: float) -> None:
    import numpy as np
    import soundfile as sf

    from chipsr.io.audio import list_audio, resample

    speech = [sf.read(f, dtype="float32")[0] for f in list_audio(ROOT / "examples/audio/speech_test.txt")]
    x = np.concatenate(speech)
    n = int(minutes * 60 * 16000)
    x = np.tile(x, -(-n // len(x)))[:n]
    low = resample(x, 16000, rate)
    sf.write(path, low, int(round(rate)), subtype="PCM_16")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "examples/audio/speech_r4_tfilm.pt"))
    ap.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    args = ap.parse_args()

    import torch

    meta = torch.load(args.model, weights_only=True)["meta"]
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            inp = Path(tmp) / f"in_{minutes:g}min.wav"
            make_input(inp, minutes, meta["low_rate"])
            for threads in args.threads:
                out = Path(tmp) / "out.wav"
                res = subprocess.run([sys.executable, "-c", CHILD, str(inp), str(out), args.model, str(threads),
                                      args.device], capture_output=True, text=True, check=True)
                s = json.loads(res.stdout.strip().splitlines()[-1])
                print(f"{minutes:5.1f} min  {threads} thread(s)  {s['device_used']:>4}: "
                      f"wall {s['wall_seconds']:7.1f} s  "
                      f"real-time factor {s['wall_seconds'] / s['audio_seconds']:.4f}  "
                      f"peak RSS {s['peak_rss_mib']:7.1f} MiB", flush=True)
    print(f"model {args.model}: ratio {meta['ratio']}, {meta['low_rate']:g} -> {meta['high_rate']} Hz")


if __name__ == "__main__":
    main()
