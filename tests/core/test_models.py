"""Models: shapes, padding/cropping, config round trips, parameter counts, baselines, overfitting."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from chipsr.core.baselines import Identity, IdentityConfig, SplineUpsampler
from chipsr.core.layers import TFiLM
from chipsr.core.models import (
    MODELS,
    AudioUNet,
    AudioUNetConfig,
    ConvUNet,
    TFiLMUNet,
    TFiLMUNetConfig,
    UNetConfig,
    build_model,
    count_parameters,
    model_from_checkpoint,
    register_model,
    unet_schedule,
)
from chipsr.tasks.audio.model import DNNBaseline, DNNConfig  # registers "dnn_baseline" in MODELS
from chipsr.tasks.chipseq.model import (  # registers "coda_cnn" and "linear_filter" in MODELS
    CodaCNN,
    CodaConfig,
    LinearFilter,
    LinearFilterConfig,
    fft_conv1d_same,
)
from chipsr.tasks.impute import (
    model as impute_model,  # registers "impute_dnn" in MODELS
)

TINY = {"width": 1 / 16}

# one small config per registered name: (config, input shape)
SMALL = [
    ({"name": "tfilm_unet", "in_channels": 3, "depth": 2, "n_blocks": 2, **TINY}, (2, 3, 100)),
    ({"name": "tfilm_unet", "in_channels": 2, "out_channels": 2, "depth": 3, "block_size": 32, "affine": False,
      "bidirectional": True, "pool": "mean", "residual_channel": 1, **TINY}, (2, 2, 70)),
    ({"name": "conv_unet", "in_channels": 3, "depth": 2, "residual_channel": 0, **TINY}, (2, 3, 50)),
    ({"name": "audio_unet", "depth": 2, **TINY}, (2, 1, 64)),
    ({"name": "coda_cnn", "in_channels": 3, "window": 21, "width": 5}, (2, 3, 40)),
    ({"name": "linear_filter", "in_channels": 3, "width": 7}, (2, 3, 40)),
    ({"name": "dnn_baseline", "n_fft": 32, "hop_length": 8, "hidden": 16}, (2, 1, 100)),
    ({"name": "identity", "channel": 1}, (2, 3, 40)),
    ({"name": "impute_dnn", "in_channels": 3, "out_channels": 2, "n_steps": 16, "hidden": 8}, (2, 3, 16)),
]


def test_every_registered_model_has_a_small_config():
    assert {cfg["name"] for cfg, _ in SMALL} | {"spline"} == set(MODELS)


@pytest.mark.parametrize("config, shape", SMALL, ids=[c["name"] for c, _ in SMALL])
def test_shapes(device, config, shape):
    torch.manual_seed(0)
    model = build_model(config).to(device).eval()
    x = torch.randn(*shape, device=device)
    with torch.no_grad():
        y = model(x)
    out_channels = config.get("out_channels", 1)
    assert y.shape == (shape[0], out_channels, shape[2])
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("config, shape", SMALL, ids=[c["name"] for c, _ in SMALL])
def test_config_round_trip(config, shape):
    torch.manual_seed(0)
    model = build_model(config)
    assert type(model).config_class is type(model.config)
    cfg = json.loads(json.dumps(model.config.to_dict()))  # JSON-serialisable, as saved in checkpoints
    assert cfg == model.config.to_dict() == dict(model.config) and cfg["name"] == config["name"]
    assert {k: v for k, v in cfg.items() if k in config} == config  # every given field kept as given
    torch.manual_seed(1)  # different initial weights
    rebuilt = build_model(cfg)
    assert type(rebuilt) is type(model)
    assert rebuilt.config == model.config
    assert type(build_model(model.config)) is type(model)  # the config itself builds it too
    assert count_parameters(rebuilt) == count_parameters(model)
    rebuilt.load_state_dict(model.state_dict())
    model.eval(), rebuilt.eval()
    x = torch.randn(*shape)
    with torch.no_grad():
        assert torch.equal(model(x), rebuilt(x))


def test_build_model_errors():
    with pytest.raises(ValueError, match="unknown model name 'nope'"):
        build_model({"name": "nope"})
    with pytest.raises(ValueError, match="'name'"):
        build_model({"depth": 3})
    with pytest.raises(ValueError, match="colour"):
        build_model({"name": "tfilm_unet", "colour": "red"})
    with pytest.raises(ValueError, match=r"\['n_blocks'\] for model 'conv_unet'"):
        build_model({"name": "conv_unet", "n_blocks": 2})  # a TFiLM field is not a plain U-Net's
    config = {"name": "conv_unet", "depth": 2}
    build_model(config)
    assert config == {"name": "conv_unet", "depth": 2}  # not modified


def test_register_model_is_open_and_guarded():
    assert MODELS["impute_dnn"] is impute_model.ImputationDNN  # a task's network, registered on import
    assert register_model("impute_dnn", impute_model.ImputationDNN) is impute_model.ImputationDNN  # idempotent
    with pytest.raises(ValueError, match="already registered"):
        register_model("tfilm_unet", ConvUNet)
    with pytest.raises(TypeError, match="non-empty string"):
        register_model("", ConvUNet)
    with pytest.raises(TypeError, match="callable"):
        register_model("x_not_callable", 3)

    def tiny(channels: int = 1) -> nn.Module:
        m = nn.Conv1d(channels, 1, 1)
        m.config = {"name": "test_tiny_conv", "channels": channels}
        return m

    register_model("test_tiny_conv", tiny)
    try:
        model = build_model({"name": "test_tiny_conv", "channels": 2})
        assert model.config == {"name": "test_tiny_conv", "channels": 2}  # a plain callable keeps a dict config
        with pytest.raises(ValueError, match="colour"):
            build_model({"name": "test_tiny_conv", "colour": "red"})
    finally:
        del MODELS["test_tiny_conv"]


def test_default_tfilm_unet_config():
    model = TFiLMUNet()
    assert model.config == TFiLMUNetConfig()
    assert model.config.to_dict() == {
        "name": "tfilm_unet", "in_channels": 1, "out_channels": 1, "depth": 4, "n_blocks": 32, "block_size": None,
        "width": 1.0, "residual_channel": None, "dropout": 0.5, "affine": True, "bidirectional": False,
        "dilation": 2, "pool": "max", "gamma_offset": 0.0, "downsample": "pool",
    }  # fmt: skip
    assert model.length_multiple == 2**5 * 32


# ---------------------------------------------------------------- config dataclasses


def test_model_takes_its_config_or_the_fields():
    cfg = TFiLMUNetConfig(3, 1, depth=2, n_blocks=2, width=1 / 16)
    torch.manual_seed(0)
    a = TFiLMUNet(cfg)
    torch.manual_seed(0)
    b = TFiLMUNet(in_channels=3, depth=2, n_blocks=2, width=1 / 16)
    assert a.config is cfg and b.config == cfg
    assert all(torch.equal(a.state_dict()[k], v) for k, v in b.state_dict().items())
    with pytest.raises(TypeError):
        TFiLMUNet(cfg, depth=3)  # a config and fields
    with pytest.raises(TypeError):
        ConvUNet(cfg)  # another model's config
    with pytest.raises(TypeError):
        TFiLMUNet(3, 1, 2)  # fields after the channel counts are keyword-only
    with pytest.raises(TypeError):
        TFiLMUNet(colour="red")
    assert LinearFilter(3, 1, 5).config == LinearFilterConfig(in_channels=3, out_channels=1, width=5)


def test_configs_are_frozen_typed_and_read_like_dicts():
    cfg = UNetConfig(np.int64(3), depth=np.int64(2), width=np.float32(0.5), residual_channel=np.int64(0))
    assert type(cfg.in_channels) is int and type(cfg.depth) is int and type(cfg.width) is float
    assert type(cfg.residual_channel) is int and UNetConfig().residual_channel is None
    json.dumps(cfg.to_dict())
    assert cfg["depth"] == 2 and "name" in cfg and cfg["name"] == "conv_unet" and len(cfg) == 1 + 8
    with pytest.raises(KeyError):
        cfg["colour"]
    with pytest.raises(AttributeError):
        cfg.depth = 3
    with pytest.raises(TypeError, match="depth must not be None"):
        UNetConfig(depth=None)
    assert hash(cfg) == hash(UNetConfig(3, depth=2, width=0.5, residual_channel=0))
    # the defaults are those of the models' papers (and of the constructors before configs)
    assert AudioUNetConfig().residual_channel == 0 and TFiLMUNetConfig().n_blocks == 32
    assert TFiLMUNetConfig(block_size=64).n_blocks is None
    assert (CodaConfig(3).window, CodaConfig(3).filters, CodaConfig(3).width) == (1001, 6, 51)
    assert DNNConfig() == DNNConfig(1, 512, 128, 2048, 3, 0, False, 0)
    assert IdentityConfig().channel == 0


def test_from_dict_refuses_another_models_config():
    assert UNetConfig.from_dict({"depth": 2}) == UNetConfig(depth=2)
    with pytest.raises(ValueError, match="'tfilm_unet' cannot build 'conv_unet'"):
        UNetConfig.from_dict({"name": "tfilm_unet", "depth": 2})


def test_checkpoint_dict_of_a_moved_model_loads(tmp_path):
    """A checkpoint stores ``config.to_dict()``: the same dict the constructors wrote before configs."""
    from chipsr.io.checkpoint import load_checkpoint, make_checkpoint, save_checkpoint

    torch.manual_seed(0)
    model = CodaCNN(2, window=21, width=5).eval()
    ckpt = make_checkpoint(model)
    assert ckpt["config"] == {"name": "coda_cnn", "in_channels": 2, "out_channels": 1, "window": 21, "filters": 6,
                              "width": 5}  # fmt: skip
    assert type(ckpt["config"]) is dict
    rebuilt = model_from_checkpoint(load_checkpoint(save_checkpoint(tmp_path / "c.pt", ckpt)))
    x = torch.randn(1, 2, 50)
    with torch.no_grad():
        assert torch.equal(model(x), rebuilt(x))


# ---------------------------------------------------------------- U-Net structure and lengths


def test_schedule_matches_papers():
    assert unet_schedule(4) == [(128, 65), (256, 33), (512, 17), (512, 9), (512, 9)]
    assert unet_schedule(2, width=0.25) == [(32, 65), (64, 33), (128, 17)]
    with pytest.raises(ValueError):
        unet_schedule(0)
    with pytest.raises(ValueError):
        unet_schedule(2, width=0)


def test_tfilm_layers_everywhere_with_same_block_count():
    model = TFiLMUNet(depth=3, n_blocks=4, **TINY)
    layers = [m for m in model.modules() if isinstance(m, TFiLM)]
    assert len(layers) == 2 * 3 + 1  # K down blocks, bottleneck, K up blocks
    assert all(layer.n_blocks == 4 for layer in layers)
    assert not any(isinstance(m, TFiLM) for m in ConvUNet(depth=3, **TINY).modules())
    assert not any(isinstance(m, TFiLM) for m in AudioUNet(depth=3, **TINY).modules())


def test_block_size_spans_the_same_input_positions_at_every_layer():
    model = TFiLMUNet(depth=2, block_size=64, **TINY)
    strides = [2, 4, 8, 4, 2]  # down 1, down 2, bottleneck, up 2, up 1
    layers = [model.downs[0].modulation, model.downs[1].modulation, model.bottleneck.modulation,
              model.ups[0].modulation, model.ups[1].modulation]  # fmt: skip
    assert [layer.block_size * s for layer, s in zip(layers, strides)] == [64] * 5
    assert model.length_multiple == 64
    with pytest.raises(ValueError, match=r"block_size 20 .* 8"):
        TFiLMUNet(depth=2, block_size=20)
    with pytest.raises(ValueError, match="at most one"):
        TFiLMUNet(depth=2, n_blocks=2, block_size=64)


@pytest.mark.parametrize("depth, padded", [(2, 1008), (3, 1024), (4, 1024)])
def test_chipseq_windows_of_1000_bins(depth, padded):
    torch.manual_seed(0)
    model = TFiLMUNet(in_channels=3, depth=depth, n_blocks=2, width=1 / 16).eval()
    assert model.length_multiple == 2 ** (depth + 1) * 2
    assert model.padded_length(1000) == padded
    x = torch.randn(2, 3, 1000)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (2, 1, 1000)


@pytest.mark.parametrize("cls", [TFiLMUNet, ConvUNet, AudioUNet])
def test_padding_and_crop(cls):
    """Zero-padding on the right then cropping: the first L outputs for an input zero-padded by hand
    equal the outputs for the short input; the residual is added after the crop."""
    torch.manual_seed(0)
    model = cls(in_channels=2, depth=2, residual_channel=1, **TINY).eval()
    length = 37
    padded = model.padded_length(length)
    assert padded % model.length_multiple == 0 and padded - model.length_multiple < length <= padded
    x = torch.randn(1, 2, length)
    with torch.no_grad():
        short = model(x)
        long = model(nn.functional.pad(x, (0, padded - length)))
    assert long.shape[-1] == padded and short.shape[-1] == length
    assert torch.allclose(short, long[..., :length], atol=1e-6)
    with torch.no_grad():
        model.final.weight.zero_()
        model.final.bias.zero_()
        assert torch.equal(model(x), x[:, 1:])  # output = residual channel exactly


def test_unet_input_errors():
    model = TFiLMUNet(in_channels=2, depth=2, n_blocks=2, **TINY)
    with pytest.raises(ValueError, match=r"\(N, 2, L\)"):
        model(torch.randn(1, 3, 64))
    with pytest.raises(ValueError, match="residual_channel 2"):
        TFiLMUNet(in_channels=2, residual_channel=2)


@pytest.mark.slow
def test_small_tfilm_unet_overfits_a_tiny_batch():
    """MSE falls at least 10x in <= 300 Adam steps (seeded, CPU, one thread: ~1-2 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        model = TFiLMUNet(in_channels=2, depth=2, width=1 / 8, n_blocks=4, dropout=0.0)
        x = torch.randn(4, 2, 256)
        y = 3 * nn.functional.avg_pool1d(x[:, :1], 9, 1, 4) + x[:, 1:].abs()
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        losses = []
        for _ in range(300):
            loss = nn.functional.mse_loss(model(x), y)
            losses.append(loss.item())
            if losses[-1] <= losses[0] / 10:
                break
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    assert losses[-1] <= losses[0] / 10, (losses[0], min(losses))


# ---------------------------------------------------------------- parameter counts


def conv(c_in: int, c_out: int, k: int) -> int:
    return c_in * c_out * k + c_out


def lstm(c_in: int, hidden: int) -> int:  # torch: W_ih, W_hh and two bias vectors, 4 gates
    return 4 * (hidden * c_in + hidden * hidden + 2 * hidden)


# paper-size U-Net convolutions, 1 channel in and out: down blocks, bottleneck, up blocks, final
AUDIO_UNET_CONVS = (
    conv(1, 128, 65) + conv(128, 256, 33) + conv(256, 512, 17) + conv(512, 512, 9)  # 8,448 + ... down
    + conv(512, 512, 9)  # bottleneck
    + conv(512, 1024, 9) + conv(1024, 1024, 17) + conv(1024, 512, 33) + conv(512, 256, 65)  # up, 2*nf each
    + conv(256, 2, 9)  # final, before SubPixel1d(2)
)  # fmt: skip
TFILM_CHANNELS = [128, 256, 512, 512, 512, 512, 512, 256, 128]  # down 1-4, bottleneck, up 4-1


def test_audio_unet_parameter_count():
    assert AUDIO_UNET_CONVS == 8_448 + 1_081_600 + 2_228_736 + 2_359_808 + 2_359_808 + 4_719_616 \
        + 17_826_816 + 17_302_016 + 8_519_936 + 4_610 == 56_411_394  # fmt: skip
    assert count_parameters(AudioUNet()) == 56_411_394
    assert count_parameters(ConvUNet()) == 56_411_394  # dilation does not change the count


def test_full_size_tfilm_unet_parameter_counts():
    affine = AUDIO_UNET_CONVS + sum(lstm(c, 2 * c) for c in TFILM_CHANNELS)
    plain = AUDIO_UNET_CONVS + sum(lstm(c, c) for c in TFILM_CHANNELS)
    assert (affine, plain) == (91_854_082, 68_234_498)
    assert count_parameters(TFiLMUNet(depth=4, n_blocks=32)) == 91_854_082
    assert count_parameters(TFiLMUNet(depth=4, n_blocks=32, affine=False)) == 68_234_498


def test_chipseq_size_parameter_count():
    model = TFiLMUNet(in_channels=3, depth=3, n_blocks=2, width=1 / 8)
    filters = [16, 32, 64, 64]  # blocks 1-3 and bottleneck at width 1/8
    expected = (
        conv(3, 16, 65) + conv(16, 32, 33) + conv(32, 64, 17) + conv(64, 64, 9)
        + conv(64, 128, 17) + conv(128, 64, 33) + conv(64, 32, 65) + conv(32, 2, 9)
        + sum(lstm(c, 2 * c) for c in filters + filters[2::-1])
    )  # fmt: skip
    assert count_parameters(model) == expected == 996_354


# ---------------------------------------------------------------- baselines


def test_coda_cnn_equals_centre_bin_network_slid_over_the_track():
    torch.manual_seed(0)
    window, width, length = 21, 5, 60
    model = CodaCNN(in_channels=2, window=window, width=width)
    assert count_parameters(CodaCNN(in_channels=3)) == 3 * 6 * 51 + 6 + 6 * 1001 + 1
    x = torch.randn(1, 2, length)
    with torch.no_grad():
        y = model(x)
        half = (window - 1) // 2 + (width - 1) // 2
        for pos in range(half, length - half):  # interior: full context available
            patch = x[..., pos - half : pos + half + 1]  # window + width - 1 bins centred on pos
            hidden = torch.relu(nn.functional.conv1d(patch, model.conv1.weight, model.conv1.bias))
            centre = nn.functional.conv1d(hidden, model.conv2.weight, model.conv2.bias)  # one value
            assert centre.shape == (1, 1, 1)
            assert y[0, 0, pos].item() == pytest.approx(centre.item(), abs=1e-5)
    with pytest.raises(ValueError):
        CodaCNN(in_channels=2, window=1000)


def test_linear_filter_is_one_convolution():
    torch.manual_seed(0)
    model = LinearFilter(in_channels=2, width=3)
    x = torch.randn(1, 2, 10)
    w, b = model.conv.weight, model.conv.bias
    with torch.no_grad():
        y = model(x)
    pos = 4
    expected = b[0] + sum(w[0, c, j] * x[0, c, pos + j - 1] for c in range(2) for j in range(3))
    assert y[0, 0, pos].item() == pytest.approx(expected.item(), abs=1e-6)
    assert count_parameters(model) == 2 * 3 + 1


def test_dnn_baseline_parameter_count_and_plumbing():
    f, h = 64 // 2 + 1, 16
    model = DNNBaseline(in_channels=1, n_fft=64, hop_length=16, hidden=h, n_layers=3)
    assert count_parameters(model) == (f + 1) * h + 2 * (h + 1) * h + (h + 1) * f
    assert count_parameters(DNNBaseline()) == (257 + 1) * 2048 + 2 * 2049 * 2048 + 2049 * 257 == 9_447_681
    # a network that returns its input log-magnitude reconstructs the input (phase reused)
    model.net = nn.Identity()
    torch.manual_seed(0)
    x = torch.randn(2, 1, 200)
    assert torch.allclose(model(x), x, atol=1e-4)
    with pytest.raises(ValueError, match="length 32 is too short for n_fft 64"):
        model(torch.randn(1, 1, 32))
    with pytest.raises(ValueError, match="hop_length 40"):
        DNNBaseline(n_fft=64, hop_length=40)


def test_dnn_baseline_gradients():
    torch.manual_seed(0)
    model = DNNBaseline(in_channels=2, n_fft=32, hop_length=8, hidden=8, phase_channel=1)
    model(torch.randn(2, 2, 64)).pow(2).mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_spline_upsampler_matches_scipy_and_reproduces_cubics(device):
    pytest.importorskip("scipy")
    from scipy.interpolate import splev, splrep

    r, n_low = 4, 12
    up = SplineUpsampler(r)
    t = np.arange(n_low * r, dtype=np.float64)
    cubic = 0.001 * t**3 - 0.05 * t**2 + 0.3 * t - 2.0
    x = torch.tensor(cubic[::r], dtype=torch.float64).reshape(1, 1, n_low).repeat(2, 3, 1).to(device)
    y = up(x)
    assert y.shape == (2, 3, n_low * r) and y.device == x.device and y.dtype == torch.float64
    # a cubic is reproduced exactly, including the extrapolated last r - 1 samples
    assert np.allclose(y[1, 2].cpu().numpy(), cubic, atol=1e-9)
    assert torch.allclose(y[..., ::r], x, atol=1e-12)  # low-rate sample j sits at position j * r
    rng = np.random.default_rng(0)
    low = rng.normal(size=(1, 2, 9)).astype(np.float32)
    got = up(torch.from_numpy(low))
    ref = splev(np.arange(9 * r), splrep(np.arange(9) * r, low[0, 1].astype(np.float64), k=3))
    assert got.dtype == torch.float32 and np.allclose(got[0, 1].numpy(), ref, atol=1e-5)
    assert count_parameters(up) == 0 and up.state_dict() == {}
    assert torch.equal(SplineUpsampler(1)(x), x)
    with pytest.raises(ValueError, match="length 3"):
        up(torch.randn(1, 1, 3))
    with pytest.raises(ValueError):
        SplineUpsampler(0)
    assert build_model(up.config).ratio == r


def test_identity_returns_the_chosen_channel():
    x = torch.randn(2, 3, 5)
    assert torch.equal(Identity(2)(x), x[:, 2:3])
    with pytest.raises(ValueError, match="channel 3"):
        Identity(3)(x)


def test_dnn_residual_keep_bins_starts_as_the_identity():
    torch.manual_seed(0)
    x = torch.randn(2, 1, 2048)
    model = DNNBaseline(1, n_fft=256, hop_length=64, hidden=32, n_layers=2, residual=True, keep_bins=40)
    assert torch.allclose(model(x), x, atol=1e-4)
    with torch.no_grad():
        model.net[-1].bias.fill_(1.0)  # +1 in log-magnitude above bin 40 only
    y = model(x)
    spec = lambda s: torch.stft(s[:, 0], 256, 64, window=torch.hann_window(256), return_complex=True).abs()  # noqa: E731
    ratio = spec(y) / spec(x).clamp_min(1e-6)
    assert torch.allclose(ratio[:, 5:30, 4:-4].median(), torch.tensor(1.0), atol=0.05)
    assert ratio[:, 60:120, 4:-4].median() > 2.0
    assert build_model(model.config).config == model.config


def test_fft_conv_matches_conv1d_values_and_gradients():
    torch.manual_seed(0)
    x = torch.randn(3, 4, 257, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 4, 101, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, dtype=torch.float64, requires_grad=True)
    ref = torch.nn.functional.conv1d(x, w, b, padding=50)
    got = fft_conv1d_same(x.float(), w.float(), b.float()).double()
    assert torch.allclose(got, ref, rtol=1e-4, atol=1e-4 * ref.abs().max().item())
    g_ref = torch.autograd.grad(ref.sum(), (x, w, b))
    xf, wf, bf = (t.detach().float().requires_grad_() for t in (x, w, b))
    g_fft = torch.autograd.grad(fft_conv1d_same(xf, wf, bf).sum(), (xf, wf, bf))
    for a, c in zip(g_ref, g_fft):
        assert torch.allclose(c.double(), a, rtol=1e-4, atol=1e-4 * a.abs().max().item())
    with pytest.raises(ValueError):
        fft_conv1d_same(x.float(), torch.randn(2, 4, 100))
