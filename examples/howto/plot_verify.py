"""
Check a formula with ``gdnp verify``
====================================

The identities of the theory guide marked **[P]** are proved with sympy by exact methods
(theory guide :ref:`theory-8`). From the command line, ``gdnp verify`` runs them all and
``gdnp verify --only gdnp`` one topic; from Python, :func:`gdnp.proofs.run_checks` returns one
result per check. A *discrepancy* is a published form shown *not* to hold as written.
"""

import collections

import matplotlib.pyplot as plt

import gdnp.plots
from gdnp.proofs import CHECKS, TOPICS, run_checks, summarize

print("topics:", TOPICS)
print(len(CHECKS), "checks, e.g.:", CHECKS[0].name, "-", CHECKS[0].statement)

# %%
# Run the checks of one topic: GDNP's direction step (theory guide :ref:`theory-4`), including
# the quoted form of K19's ``h`` that holds only when ``g = ||w||_S``.

results = run_checks(only=["gdnp"])
for r in results:
    print(f"{r.name:32s} {r.status}")
print(summarize(results))

# %%
# Every topic at once, as ``gdnp verify`` runs them: how many identities each topic proves
# and how many published forms it shows not to hold as written (each with its counterexample
# or the corrected form in ``r.detail``). Any other status (a check that failed, timed out or
# raised) would be a bar of its own, in red.

every = run_checks()
count = collections.Counter((r.topic, r.status) for r in every)
fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
proved = [count[t, "proved"] for t in TOPICS]
shown_false = [count[t, "discrepancy"] for t in TOPICS]
ax.barh(TOPICS, proved, color="tab:green", label="proved")
other = [sum(count[t, s] for s in ("failed", "unrefuted", "timeout", "error"))
         for t in TOPICS]
ax.barh(TOPICS, shown_false, left=proved, color="tab:orange",
        label="published form refuted")
if any(other):
    ax.barh(TOPICS, other, left=[p + s for p, s in zip(proved, shown_false, strict=True)],
            color="tab:red", label="failed or not decided")
ax.invert_yaxis()
ax.set_xlabel("checks")
ax.set_title(f"gdnp verify: {len(every)} checks")
_ = fig.legend(loc="outside lower center", ncols=3)
print(summarize(every))

gdnp.plots.show()  # a window when run from a terminal with a display
