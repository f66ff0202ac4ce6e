"""The guarded L-BFGS on functions where the answer is known, and on the step that broke plain L-BFGS."""
import math

import torch

from models.nst.lbfgs import GIVE_UP_AFTER, GuardedLBFGS


def minimise(f, x0: torch.Tensor, evaluations: int, history_size: int = 10):
    opt = GuardedLBFGS(x0, history_size=history_size)
    values = []
    for _ in range(evaluations):
        x = opt.point.clone().requires_grad_(True)
        y = f(x)
        (g,) = torch.autograd.grad(y, x)
        values.append(float(y.detach()))
        opt.tell(float(y.detach()), g)
        if opt.stuck:
            break
    return opt, values


def rosenbrock(x):
    return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


def test_finds_the_minimum_of_a_quadratic():
    a = torch.linspace(1, 50, 20, dtype=torch.float64)
    opt, _ = minimise(lambda x: 0.5 * (a * (x - 3) ** 2).sum(), torch.zeros(20, dtype=torch.float64), 60)
    assert torch.allclose(opt.x, torch.full((20,), 3.0, dtype=torch.float64), atol=1e-5)


def test_solves_rosenbrock():
    opt, _ = minimise(rosenbrock, torch.full((6,), -1.2, dtype=torch.float64), 400)
    assert float(rosenbrock(opt.x)) < 1e-8


def test_accepted_values_never_increase():
    accepted = []
    opt = GuardedLBFGS(torch.full((6,), -1.2, dtype=torch.float64), history_size=10)
    for _ in range(200):
        x = opt.point.clone().requires_grad_(True)
        y = rosenbrock(x)
        (g,) = torch.autograd.grad(y, x)
        opt.tell(float(y.detach()), g)
        accepted.append(opt.f)
    assert all(b <= a for a, b in zip(accepted, accepted[1:]))
    assert opt.rejected > 0 and opt.accepted > 50


def test_a_quartic_blow_up_is_rejected_and_the_run_recovers():
    # Like a Gram loss far from the style: quartic, tiny gradient scale at the start. Plain L-BFGS without a
    # line search jumps to a huge value on its second step here.
    target = torch.linspace(-2, 2, 50, dtype=torch.float64)
    f = lambda x: ((x ** 2 - target ** 2) ** 2).sum() * 1e3  # noqa: E731
    x0 = torch.full((50,), 1e-3, dtype=torch.float64)
    plain = torch.optim.LBFGS([x0.clone().requires_grad_(True)], lr=1, max_iter=1, history_size=10)
    p = plain.param_groups[0]["params"][0]
    plain_values = []

    def closure():
        plain.zero_grad()
        y = f(p)
        y.backward()
        return y
    for _ in range(3):
        plain_values.append(float(plain.step(closure)))
    assert plain_values[2] > 1e6 * plain_values[0]  # the failure this class exists for

    opt, values = minimise(f, x0, 300)
    assert opt.rejected >= 1
    assert opt.f < 1e-6 * values[0]


def test_a_function_with_no_descent_gets_stuck_not_wrong():
    # A NaN everywhere but the start: no step can be accepted; the optimiser says so and keeps the start.
    x0 = torch.ones(4, dtype=torch.float64)

    def f(x):
        return (x ** 2).sum() if torch.equal(x.detach(), x0) else (x ** 2).sum() * math.nan

    opt, values = minimise(f, x0, 100)
    assert opt.stuck and len(values) <= GIVE_UP_AFTER + 1
    assert torch.equal(opt.x, x0) and opt.f == 4.0
