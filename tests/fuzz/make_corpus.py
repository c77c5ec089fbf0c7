#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_ops into tests/fuzz/corpus/ (or the directory given).

Each seed is one call in the input format documented at the top of
tests/fuzz/fuzz_ops.c: a 21-byte header, then float bits. The seeds give
libFuzzer a valid start for every registry entry, both PReLU layouts, the
in-place and optional-output variants, each argument fault, and the special
values (NaN with payloads, +-inf, subnormals, +-0, and ELU's exp() edges).
Run it again after changing the format:  python3 tests/fuzz/make_corpus.py
"""
import os
import struct
import sys

# FR_KERNEL_LIST order (src/internal.h).
OPS = ["relu_fwd", "relu_bwd", "leaky_relu_fwd", "leaky_relu_bwd", "prelu_fwd", "prelu_bwd",
       "elu_fwd", "elu_bwd", "clip_fwd", "clip_bwd"]

OUT_IS_X, OUT_IS_DY = 1, 2          # byte 1, bits 0-1
NO_DX, NO_DALPHA = 1 << 2, 2 << 2   # byte 1, bits 2-3
NCHW = 1 << 4                       # byte 1, bit 4
FAULT_NULL, FAULT_OVERLAP, FAULT_HUGE = 1, 2, 4
ROLES = {"dy": 0, "x": 1, "alpha": 2, "out": 3, "dalpha": 4}


def bits(v):
    """Float bits: an int is taken as the bits themselves."""
    return v if isinstance(v, int) else struct.unpack("<I", struct.pack("<f", v))[0]


SPECIALS = [0.0, -0.0, float("inf"), float("-inf"), 0x7fc00000, 0xffc00000, 0x7f800001,
            0x7fc12345, 0x00000001, 0x80000001, 0x007fffff, 1.1754943508222875e-38,
            3.4028234663852886e+38, -3.4028234663852886e+38, 1.0, -1.0, 6.0, -6.0, 0.5,
            -1e-30, -87.33654, -88.72283, -103.97208, -104.0, -150.0, 88.72283, 89.0]


def seed(op, shape=0, n=0, dims=(0, 0, 0), a=0.0, b=0.0, fix=1, mis=0, fault=0, fault_arg=0,
         values=()):
    head = struct.pack("<BBH3BIIBBBBBB", OPS.index(op), shape, n, *dims, bits(a), bits(b), fix,
                       mis & 0xff, (mis >> 8) & 0xff, (mis >> 16) & 0xff, fault, fault_arg)
    assert len(head) == 21
    return head + b"".join(struct.pack("<I", bits(v)) for v in values)


def fault(kinds, pick=0):
    """The fault byte: kinds is a FAULT_* mask, pick chooses the array or the pair."""
    return 160 + kinds + (pick << 3)


def ramp(count, lo, hi):
    return [lo + (hi - lo) * i / max(count - 1, 1) for i in range(count)]


def seeds():
    mixed = SPECIALS + ramp(37, -20.0, 8.0)  # 64 values
    clip_edges = [0.0, -0.0, 6.0, 0x40c00001, 0x40bfffff, 0x80000001, 0x00000001, 3.0, -1.0, 7.0]
    yield "relu_fwd", seed("relu_fwd", n=64, values=mixed)
    yield "relu_bwd_inplace_dy", seed("relu_bwd", OUT_IS_DY, n=33, mis=0x00037, values=mixed)
    yield "leaky_relu_fwd_long", seed("leaky_relu_fwd", n=0x8000 | 1000, a=0.01, mis=0x00051,
                                      values=mixed)
    yield "leaky_relu_bwd_inplace_x", seed("leaky_relu_bwd", OUT_IS_X, n=17, a=-0.5,
                                           values=mixed)
    yield "prelu_fwd_nhwc", seed("prelu_fwd", n=0, dims=(67, 5, 0), mis=0x12345,
                                 values=[0.25, -1.0, 0.0, 2.5] + mixed)
    yield "prelu_fwd_nchw_inplace", seed("prelu_fwd", OUT_IS_X | NCHW, dims=(3, 2, 37),
                                         values=[0.1, 3e38, -0.0] + mixed)
    yield "prelu_bwd_nchw", seed("prelu_bwd", NCHW, dims=(5, 3, 19), mis=0x9a3c1,
                                 values=[0.2, -0.3, 1.0, 0.0, 1e-40] + mixed)
    yield "prelu_bwd_no_dx", seed("prelu_bwd", NO_DX, dims=(65, 7, 0), values=[0.5] + mixed)
    yield "prelu_bwd_no_dalpha", seed("prelu_bwd", NO_DALPHA | OUT_IS_DY, dims=(16, 3, 0),
                                      values=[0.5, -2.0] + mixed)
    yield "elu_fwd", seed("elu_fwd", n=64, a=1.0, values=mixed)
    yield "elu_bwd_tiny_alpha", seed("elu_bwd", n=0x8000 | 200, a=2.0 ** -140, values=mixed)
    yield "elu_bwd_huge_alpha", seed("elu_bwd", n=48, a=3.4028234663852886e+38, mis=0x00f0f,
                                     values=mixed)
    yield "clip_fwd_relu6", seed("clip_fwd", n=40, a=0.0, b=6.0, values=clip_edges * 4)
    yield "clip_bwd_lo_eq_hi", seed("clip_bwd", n=20, a=2.0, b=2.0, fix=1 | 4,
                                    values=[2.0, 0x40000001, 0x3fffffff, -0.0] * 10)
    # Arguments that the rules reject (and n == 0, which they accept with NULL arrays).
    yield "reject_nan_alpha", seed("leaky_relu_fwd", n=8, a=0x7fc00000, fix=0, values=mixed)
    yield "reject_lo_above_hi", seed("clip_fwd", n=8, a=6.0, b=0.0, fix=0, values=mixed)
    yield "reject_null_x", seed("relu_bwd", n=12, fault=fault(FAULT_NULL, ROLES["x"]))
    yield "accept_n0_null", seed("clip_bwd", n=0, a=0.0, b=1.0, fault=fault(FAULT_NULL, 1))
    yield "reject_overlap", seed("elu_bwd", n=50, a=1.0, fault=fault(FAULT_OVERLAP, 1),
                                 fault_arg=100, values=mixed)
    yield "reject_overlap_dalpha", seed("prelu_bwd", NCHW, dims=(4, 2, 9),
                                        fault=fault(FAULT_OVERLAP, 5), fault_arg=7)
    yield "reject_huge_n", seed("relu_fwd", n=5, fault=fault(FAULT_HUGE), fault_arg=1)
    yield "reject_huge_outer", seed("prelu_fwd", NCHW, dims=(2, 1, 3), fault=fault(FAULT_HUGE))
    # docs/semantics.md checks NULL arrays before sizes; PReLU's alpha was checked after.
    yield "regress_prelu_null_alpha_size", seed("prelu_fwd", NCHW, dims=(3, 2, 5),
                                                fault=fault(FAULT_NULL | FAULT_HUGE,
                                                            ROLES["alpha"]), fault_arg=2)
    yield "regress_prelu_bwd_null_alpha_size", seed("prelu_bwd", NCHW, dims=(3, 2, 5),
                                                    fault=fault(FAULT_NULL | FAULT_HUGE,
                                                                ROLES["alpha"]), fault_arg=2)
    # dalpha summed in float lanes overflowed where the reference's double sum does not:
    # four terms of -3e38, -3e38, +3e38, +3e38 in one lane (x, dy interleaved).
    yield "regress_prelu_bwd_float_overflow", seed("prelu_bwd", dims=(1, 4, 0),
                                                   values=[0.25, -2e38, 1.5, -2e38, 1.5,
                                                           -2e38, -1.5, -2e38, -1.5])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
