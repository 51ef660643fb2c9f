"""The `noise:` config section as frozen dataclasses, checked when built.

Build from YAML with `noise.methods.build_noise_spec(raw)`. YAML's `lambda` is a Python
keyword, so the field is `lambda_reg` (likewise in `cloak:`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from core.schema import Checks


@dataclass(frozen=True)
class ShredderSpec:
    """Shredder's noise learning (arXiv v2 loss by default; `asplos` adds the magnitude term)."""
    variant: Literal["arxiv", "asplos"] = "arxiv"
    lambda_reg: float = 1e-3          # weight of the same/different-label distance term
    c_margin: float = 1.0             # c in sum over different-label pairs of (c - |a'_i - a'_j|^2)
    init_mu: float = 0.0              # additive tensor n2 starts as Laplace(init_mu, init_b)
    init_b: float = 0.5
    lr: float = 1e-2                  # Adam on the noise tensors only
    batch_size: int = 64
    iterations: int = 400             # most iterations per tuple
    min_iterations: int = 100         # the noise grows this long before the stop rule may fire
    eval_every: int = 25              # held-out accuracy check period (iterations)
    stop_on: Literal["sampled", "learned"] = "sampled"   # noise the held-out check applies
    alpha: float = 0.01               # asplos: loss - alpha * sum|n| (paper's negative decay)
    alpha_decay: float = 0.1          # asplos: alpha *= alpha_decay every alpha_decay_every
    alpha_decay_every: int = 500
    gamma: float = 0.0                # asplos: + gamma * CE of the private task (0 = off)
    # asplos: a tuple is kept only when the additive tensor's Laplace fit passes the histogram
    # test: SSE of the 50-bin density histogram against the fitted pdf, over sum(pdf^2) at the
    # bin centres, <= this (Laplace samples of 120 values: about 0.1; Gaussian 0.2-0.4;
    # uniform 0.65; 4096 values: 0.002, 0.06, 0.28)
    max_fit_sse_rel: float = 0.5

    def __post_init__(self) -> None:
        c = Checks()
        c.require(self.lambda_reg >= 0, "lambda_reg", ">= 0", self.lambda_reg)
        c.require(self.init_b > 0, "init_b", "> 0", self.init_b)
        c.require(self.lr > 0, "lr", "> 0", self.lr)
        c.require(self.batch_size >= 2, "batch_size", ">= 2", self.batch_size)
        c.require(self.iterations >= 1, "iterations", ">= 1", self.iterations)
        c.require(0 <= self.min_iterations <= self.iterations, "min_iterations",
                  f"between 0 and iterations ({self.iterations})", self.min_iterations)
        c.require(self.eval_every >= 1, "eval_every", ">= 1", self.eval_every)
        c.require(self.alpha >= 0, "alpha", ">= 0 (it is the size of the growth term)", self.alpha)
        c.require(0 < self.alpha_decay <= 1, "alpha_decay", "in (0, 1]", self.alpha_decay)
        c.require(self.alpha_decay_every >= 1, "alpha_decay_every", ">= 1", self.alpha_decay_every)
        c.require(self.gamma >= 0, "gamma", ">= 0", self.gamma)
        c.require(self.max_fit_sse_rel > 0, "max_fit_sse_rel", "> 0", self.max_fit_sse_rel)
        c.done()


@dataclass(frozen=True)
class CloakSpec:
    """Cloak: x' = x + B * E + M with B bounded through tanh; loss -log(mean B) + lambda CE."""
    b_min: float = 0.01
    b_max: float = 1.5
    lambda_reg: float = 1.0           # weight of the cross entropy
    threshold: float = 1.0            # features with B above it are suppressed
    distribution: Literal["laplace", "gaussian"] = "laplace"
    p_init: float = -5.0              # B starts near b_min (tanh(-5) = -0.9999)
    lr: float = 1e-2
    batch_size: int = 64
    epochs: int = 5

    def __post_init__(self) -> None:
        c = Checks()
        c.require(self.b_min >= 0, "b_min", ">= 0", self.b_min)
        c.require(self.b_max > self.b_min, "b_max", f"> b_min ({self.b_min})", self.b_max)
        c.require(self.lambda_reg > 0, "lambda_reg", "> 0", self.lambda_reg)
        c.require(self.threshold > 0, "threshold", "> 0", self.threshold)
        c.require(self.lr > 0, "lr", "> 0", self.lr)
        c.require(self.batch_size >= 1, "batch_size", ">= 1", self.batch_size)
        c.require(self.epochs >= 1, "epochs", ">= 1", self.epochs)
        c.done()


@dataclass(frozen=True)
class NoiseSpec:
    """The `noise:` section's common keys; `options` is the chosen method's own section
    (`noise.<method>:`, built by `noise.methods.build_noise_spec`)."""
    method: str
    allowed_loss_pct: float = 2.0     # held-out accuracy may fall this many points at most
    collection_size: int = 100        # K tuples (the paper keeps 100)
    max_attempts_factor: int = 3      # give up after K * this many training runs
    order_mode: Literal["exact", "quantized"] = "exact"
    quantized_bits: int = 8
    seed: int = 0
    collection_path: str | None = None
    options: Any = None

    def as_config(self) -> dict[str, Any]:
        """The section as the YAML writes it: common keys, the options under the method's name."""
        plain = {k: v for k, v in dataclasses.asdict(self).items() if k != "options"}
        options = dataclasses.asdict(self.options) if dataclasses.is_dataclass(self.options) else {}
        return {**plain, **({self.method: options} if options else {})}

    def __post_init__(self) -> None:
        c = Checks()
        c.require(0 <= self.allowed_loss_pct <= 100, "allowed_loss_pct", "in [0, 100]",
                  self.allowed_loss_pct)
        c.require(self.collection_size >= 1, "collection_size", ">= 1", self.collection_size)
        c.require(self.max_attempts_factor >= 1, "max_attempts_factor", ">= 1",
                  self.max_attempts_factor)
        c.require(1 <= self.quantized_bits <= 16, "quantized_bits", "between 1 and 16",
                  self.quantized_bits)
        c.require(self.seed >= 0, "seed", ">= 0", self.seed)
        c.done()
