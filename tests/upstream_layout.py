"""A CycleGAN generator checkpoint in the exact key layout of the upstream `style_*.pth` files, built from a
seeded random generator without using stylebot's network code, running-stat keys of old files included."""
import torch


def upstream_generator_state(seed: int = 0, ngf: int = 64, n_blocks: int = 9, running_stats: bool = True) -> dict:
    g = torch.Generator().manual_seed(seed)
    state = {}

    def conv(idx: str, out_ch: int, in_ch: int, k: int, transpose: bool = False):
        shape = (in_ch, out_ch, k, k) if transpose else (out_ch, in_ch, k, k)
        state[f"{idx}.weight"] = torch.randn(shape, generator=g) * 0.02
        state[f"{idx}.bias"] = torch.randn(out_ch, generator=g) * 0.02

    def norm(idx: str, ch: int):
        if running_stats:  # InstanceNorm2d of PyTorch <= 0.3 saved these; upstream deletes them on load
            state[f"{idx}.running_mean"] = torch.zeros(ch)
            state[f"{idx}.running_var"] = torch.ones(ch)

    conv("model.1", ngf, 3, 7); norm("model.2", ngf)
    conv("model.4", ngf * 2, ngf, 3); norm("model.5", ngf * 2)
    conv("model.7", ngf * 4, ngf * 2, 3); norm("model.8", ngf * 4)
    for b in range(n_blocks):
        i = 10 + b
        conv(f"model.{i}.conv_block.1", ngf * 4, ngf * 4, 3); norm(f"model.{i}.conv_block.2", ngf * 4)
        conv(f"model.{i}.conv_block.5", ngf * 4, ngf * 4, 3); norm(f"model.{i}.conv_block.6", ngf * 4)
    i = 10 + n_blocks
    conv(f"model.{i}", ngf * 2, ngf * 4, 3, transpose=True); norm(f"model.{i + 1}", ngf * 2)
    conv(f"model.{i + 3}", ngf, ngf * 2, 3, transpose=True); norm(f"model.{i + 4}", ngf)
    conv(f"model.{i + 7}", 3, ngf, 7)
    return state
