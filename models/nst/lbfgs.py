"""L-BFGS with a step guard, driven one objective evaluation at a time (ask/tell).

Plain L-BFGS without a line search (what torch.optim.LBFGS does with `line_search_fn=None`) takes whatever step
its curvature model proposes. On the Gatys objective (a Gram loss is quartic in the pixels) the model built
from the first, tiny steepest-descent step underestimates the curvature, the second step can overshoot by
orders of magnitude (9.6e6 -> 2.3e26 was seen), and the poisoned history then stalls the run with the photo
unchanged. Here every step must lower the objective (Armijo's condition) before it is accepted; a rejected
step is shortened along the same direction, and the history is dropped when shortening alone does not help.
An accepted step costs one evaluation, exactly as before; the guard costs evaluations only when it acts.

The caller owns the objective: `tell(f, g)` takes the objective and gradient at the point last handed out
(`point`) and returns the next point to evaluate. That keeps this class free of closures, so several jobs can
each hold one and be evaluated together.
"""
from __future__ import annotations

import math

import torch

ARMIJO_C1 = 1e-4          # sufficient decrease: f_new <= f + c1 * t * g.d
SHRINK_MIN, SHRINK_MAX = 0.1, 0.5   # a rejected step is shortened to between these fractions
BLOW_UP = 2.0             # f_new above this multiple of |f|: the step was far too long (quartic growth)
RESET_AFTER = 3           # rejections in a row that drop the curvature history
GIVE_UP_AFTER = 12        # rejections in a row after which no step can be found


class GuardedLBFGS:
    def __init__(self, x0: torch.Tensor, history_size: int = 100):
        self.history_size = history_size
        self.point = x0.detach().clone()          # where the next evaluation happens
        self.x: torch.Tensor | None = None        # the accepted iterate and its objective and gradient
        self.f = math.inf
        self.g: torch.Tensor | None = None
        self.d: torch.Tensor | None = None        # the search direction from x
        self.t = 1.0                              # the step length along d being tried
        self.gd = 0.0                             # g . d at x (negative)
        self.s: list[torch.Tensor] = []
        self.y: list[torch.Tensor] = []
        self.rho: list[torch.Tensor] = []
        self.h_diag: torch.Tensor | float = 1.0
        self.rejected_in_row = 0
        self.accepted = 0
        self.rejected = 0

    @property
    def stuck(self) -> bool:
        """True when no step lowers the objective any more: too many rejections, or a step shortened to nothing."""
        return self.rejected_in_row >= GIVE_UP_AFTER or (self.rejected_in_row > 0 and torch.equal(self.point, self.x))

    def tell(self, f: float, g: torch.Tensor) -> torch.Tensor:
        """The objective and gradient at `point`; returns the next point to evaluate (also `point`)."""
        if self.x is None or self._acceptable(f):
            self._accept(f, g)
        else:
            self._reject(f)
        return self.point

    # -- internals -----------------------------------------------------------------------------------------
    def _acceptable(self, f: float) -> bool:
        return math.isfinite(f) and f <= self.f + ARMIJO_C1 * self.t * self.gd

    def _accept(self, f: float, g: torch.Tensor) -> None:
        g = g.detach().reshape(-1)
        if self.x is not None:
            s, y = self.point - self.x, g - self.g
            ys = y.dot(s)
            if ys > 1e-10:  # keep only pairs with positive curvature: the model stays positive definite
                if len(self.s) == self.history_size:
                    self.s.pop(0), self.y.pop(0), self.rho.pop(0)
                self.s.append(s)
                self.y.append(y)
                self.rho.append(1.0 / ys)
                self.h_diag = ys / y.dot(y)
        self.x, self.f, self.g = self.point.clone(), f, g
        self.accepted += 1
        self.rejected_in_row = 0
        self._new_direction()

    def _reject(self, f: float) -> None:
        self.rejected += 1
        self.rejected_in_row += 1
        if self.rejected_in_row % RESET_AFTER == 0:
            # Shortening alone did not help: the curvature model is wrong. Start over from steepest descent.
            self.s, self.y, self.rho, self.h_diag = [], [], [], 1.0
            self._new_direction(scale=self.t)
            return
        if not math.isfinite(f):
            factor = SHRINK_MIN ** 2
        elif f > BLOW_UP * abs(self.f):
            # Far too long: the objective grows like t^4 here, so aim at the length where it would be |f|.
            factor = 0.5 * (abs(self.f) / (f - self.f)) ** 0.25
        else:
            # The minimiser of the quadratic through f(0), f'(0) and f(t), kept within [0.1, 0.5] of t.
            denom = 2.0 * (f - self.f - self.gd * self.t)
            factor = (-self.gd * self.t / denom) if denom > 0 else SHRINK_MAX
            factor = min(max(factor, SHRINK_MIN), SHRINK_MAX)
        self.t *= factor
        self.point = self.x + self.t * self.d

    def _new_direction(self, scale: float | None = None) -> None:
        d = self._two_loop(-self.g)
        gd = float(self.g.dot(d))
        if not gd < 0:  # not a descent direction (a stale model): fall back to steepest descent
            self.s, self.y, self.rho, self.h_diag = [], [], [], 1.0
            d, gd = -self.g, -float(self.g.dot(self.g))
        if not self.s:
            # First step, or after a reset: as torch's L-BFGS, a steepest-descent step of unit L1 length, or
            # the length that the last rejected step reached, whichever is shorter.
            t = min(1.0, 1.0 / max(float(self.g.abs().sum()), 1e-12))
            self.t = t if scale is None else min(t, scale)
        else:
            self.t = 1.0
        self.d, self.gd = d, gd
        self.point = self.x + self.t * d

    def _two_loop(self, q: torch.Tensor) -> torch.Tensor:
        """H @ q for the L-BFGS inverse-Hessian estimate; scalars stay tensors (no host sync on a GPU)."""
        q = q.clone()
        alphas = []
        for s, y, rho in zip(reversed(self.s), reversed(self.y), reversed(self.rho)):
            a = rho * s.dot(q)
            alphas.append(a)
            q.sub_(a * y)
        r = q.mul_(self.h_diag)
        for (s, y, rho), a in zip(zip(self.s, self.y, self.rho), reversed(alphas)):
            r.add_((a - rho * y.dot(r)) * s)
        return r
