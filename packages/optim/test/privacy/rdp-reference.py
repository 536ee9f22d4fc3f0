#!/usr/bin/env python3
"""Reference values for the Renyi-DP accountant tests (rdp-reference.json beside this file).

Independent of the series the accountant sums: each A_alpha is the defining integral of the
sampled Gaussian mechanism (Mironov, Talwar & Zhang 2019, section 3),

    A_alpha = integral over z of N(z; 0, sigma^2) * ((1 - q) + q * exp((2z - 1) / (2 sigma^2)))^alpha dz,

evaluated by mpmath's adaptive quadrature at 20 significant digits (checked against the exact
binomial sum at integer orders); the RDP of one step at order
alpha is log(A_alpha) / (alpha - 1). The (epsilon, delta) conversions minimise over the orders:
  classic (Mironov 2017, Proposition 3):   eps = rdp - log(delta) / (alpha - 1)
  tight   (Balle et al. 2020, Theorem 21): eps = rdp - (log(delta) + log(alpha)) / (alpha - 1)
                                                 + log((alpha - 1) / alpha)
Run: /usr/bin/python3 rdp-reference.py > rdp-reference.json   (needs only mpmath; a few minutes)
"""
import json

import mpmath as mp

mp.mp.dps = 20

# The orders Opacus and TF Privacy use by default.
ORDERS = [1 + x / 10 for x in range(1, 100)] + list(range(12, 64))


def log_a(q, sigma, alpha):
    q, sigma, alpha = mp.mpf(q), mp.mpf(sigma), mp.mpf(alpha)
    s2 = sigma**2

    def integrand(z):
        ratio = (1 - q) + q * mp.exp((2 * z - 1) / (2 * s2))
        return mp.npdf(z, 0, sigma) * ratio**alpha

    # Where the mixture's two parts are equal, and where the integrand's mass sits for large alpha.
    z0 = s2 * mp.log(1 / q - 1) + mp.mpf(1) / 2
    points = sorted({mp.mpf(-40) * sigma, mp.mpf(0), z0, alpha, alpha + 40 * sigma})
    return mp.log(mp.quad(integrand, [-mp.inf, *points, mp.inf]))


def log_a_binomial(q, sigma, alpha):
    """The integral's binomial expansion, exact at integer orders."""
    q, s2 = mp.mpf(q), mp.mpf(sigma) ** 2
    return mp.log(mp.fsum(
        mp.binomial(alpha, k) * (1 - q) ** (alpha - k) * q**k * mp.exp((k * k - k) / (2 * s2))
        for k in range(alpha + 1)
    ))


def rdp(q, sigma, alpha):
    value = log_a(q, sigma, alpha)
    if float(alpha).is_integer():
        exact = log_a_binomial(q, sigma, int(alpha))
        assert abs(value - exact) <= mp.mpf('1e-12') * max(1, abs(exact)), (q, sigma, alpha, value, exact)
    return value / (alpha - 1)


def epsilon(q, sigma, steps, delta, conversion):
    best = mp.inf
    for alpha in ORDERS:
        r = steps * rdp(q, sigma, alpha)
        a = mp.mpf(alpha)
        if conversion == 'classic':
            eps = r - mp.log(delta) / (a - 1)
        else:
            eps = r - (mp.log(delta) + mp.log(a)) / (a - 1) + mp.log((a - 1) / a)
        best = min(best, eps)
    return best


# One step's RDP at a few (q, sigma, alpha), integer and fractional orders.
RDP_CASES = [
    (0.01, 1.0, 2), (0.01, 1.0, 2.5), (0.01, 1.0, 8), (0.01, 1.0, 32.0),
    (256 / 60000, 1.1, 1.5), (256 / 60000, 1.1, 10), (256 / 60000, 1.1, 63),
    (0.1, 0.7, 3.3), (0.1, 0.7, 20), (0.5, 2.0, 4.7), (1.0, 1.5, 6.5), (0.001, 5.0, 1.1),
]

# The TF Privacy MNIST tutorial's table (tutorials/README.md: batch 256 of 60,000, delta 1e-5):
# noise 1.12 for 60 epochs -> eps 2.92; 0.6 for 30 -> 9.74; 1.2 for 10 -> 1.20. Steps as the
# tutorial counts them: epochs * 60000 // 256.
EPS_CASES = [
    (256 / 60000, 1.12, 60 * 60000 // 256, 1e-5),
    (256 / 60000, 0.6, 30 * 60000 // 256, 1e-5),
    (256 / 60000, 1.2, 10 * 60000 // 256, 1e-5),
    (256 / 60000, 1.1, 60 * 60000 // 256, 1e-5),
]

out = {
    'method': 'mpmath quad of the defining integral, 20 digits; see rdp-reference.py',
    'rdp': [
        {'q': q, 'sigma': s, 'alpha': a, 'rdp': float(rdp(q, s, a))} for q, s, a in RDP_CASES
    ],
    'epsilon': [
        {
            'q': q, 'sigma': s, 'steps': n, 'delta': d,
            'classic': float(epsilon(q, s, n, d, 'classic')),
            'tight': float(epsilon(q, s, n, d, 'tight')),
        }
        for q, s, n, d in EPS_CASES
    ],
}
print(json.dumps(out, indent=2))
