"""Independent Monte Carlo values of the Hellinger distance for tests/unit/fit_density_loss.cpp.

H(p, q)^2 = 1 - E_{y ~ m}[sqrt(p q) / m], m = (p + q) / 2, estimated from 4e6 draws of m per
input x, by plain numpy (no quadrature, no code shared with fit/density_loss). Prints each
case's H and its Monte Carlo standard error; the C++ test holds the printed values.
Run: /usr/bin/python3 tests/unit/reference/density_hellinger.py
"""
import numpy as np

rng = np.random.default_rng(20505)
N = 4_000_000


def log_mix(comps, y):
    # comps: list of (weight, kind, location, scale); kind "n" (sd scale) or "l" (Laplace)
    terms = []
    for w, kind, loc, s in comps:
        if kind == "n":
            terms.append(np.log(w) - 0.5 * np.log(2 * np.pi) - np.log(s) - 0.5 * ((y - loc) / s) ** 2)
        else:
            terms.append(np.log(w) - np.log(2 * s) - np.abs(y - loc) / s)
    t = np.stack(terms)
    top = t.max(axis=0)
    return top + np.log(np.exp(t - top).sum(axis=0))


def draw(comps, size):
    w = np.array([c[0] for c in comps])
    idx = rng.choice(len(comps), size=size, p=w / w.sum())
    y = np.empty(size)
    for i, (_, kind, loc, s) in enumerate(comps):
        sel = idx == i
        k = sel.sum()
        y[sel] = loc + s * (rng.standard_normal(k) if kind == "n" else rng.laplace(size=k))
    return y


def hellinger(p, q):
    m = [(0.5 * w, k, l, s) for (w, k, l, s) in p + q]
    y = draw(m, N)
    lp, lq = log_mix(p, y), log_mix(q, y)
    lm = log_mix(m, y)
    ratio = np.exp(0.5 * (lp + lq) - lm)
    one_minus = 1.0 - ratio
    h2 = one_minus.mean()
    se = one_minus.std() / np.sqrt(N)
    return np.sqrt(h2), se / (2 * np.sqrt(h2))


def sigmoid(t):
    return 1 / (1 + np.exp(-t))


# Case 1: softmax-contaminated, d = 1: f0 Laplace(tanh(x), s0 = 0.3); prompt N(tanh(a x), nu)
# with weight sigmoid(beta x + tau). Truth (a, nu, beta, tau) = (-1, 0.05, 1, 0.5); fit
# (-0.8, 0.07, 1.3, 0.2).
def contaminated(x, a, nu, beta, tau):
    s = sigmoid(beta * x + tau)
    return [(1 - s, "l", np.tanh(x), 0.3), (s, "n", np.tanh(a * x), np.sqrt(nu))]


# Case 2: softmax Gaussian MoE, d = 1, tanh experts: gate (beta1, beta0) for expert 0, expert
# 1 at 0; experts N(tanh(a x + b), nu). Truth beta = (1.5, 0.3), a = (1, -1), b = (0.5, -0.5),
# nu = (0.3, 0.2); fit beta = (1.2, 0.5), a = (1.2, -0.9), b = (0.4, -0.5), nu = (0.25, 0.2).
def moe(x, beta1, beta0, a, b, nu):
    g0 = sigmoid(beta1 * x + beta0)
    return [(g0, "n", np.tanh(a[0] * x + b[0]), np.sqrt(nu[0])),
            (1 - g0, "n", np.tanh(a[1] * x + b[1]), np.sqrt(nu[1]))]


for x in [-1.0, 0.0, 0.5, 1.5]:
    h, se = hellinger(contaminated(x, -0.8, 0.07, 1.3, 0.2), contaminated(x, -1.0, 0.05, 1.0, 0.5))
    print(f"contaminated x={x:+.1f} H={h:.6f} se={se:.1e}")
for x in [-1.0, 0.0, 0.5, 1.5]:
    h, se = hellinger(moe(x, 1.2, 0.5, (1.2, -0.9), (0.4, -0.5), (0.25, 0.2)),
                      moe(x, 1.5, 0.3, (1.0, -1.0), (0.5, -0.5), (0.3, 0.2)))
    print(f"moe x={x:+.1f} H={h:.6f} se={se:.1e}")


# Case 3: the least-squares families' conditional densities N(f(x), v): fitted (f, v) against
# true (f*, v*) at a few pairs, by the same mixture Monte Carlo with one component each.
for mean_p, var_p, mean_q, var_q in [(0.3, 0.12, 0.0, 0.1), (1.0, 0.05, 1.2, 0.08), (-0.5, 0.1, -0.5, 0.2)]:
    h, se = hellinger([(1.0, "n", mean_p, np.sqrt(var_p))], [(1.0, "n", mean_q, np.sqrt(var_q))])
    print(f"regression ({mean_p}, {var_p}) vs ({mean_q}, {var_q}) H={h:.6f} se={se:.1e}")
