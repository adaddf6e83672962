"""
Check a formula with ``gdnp verify``
====================================

The identities of the theory guide marked **[P]** are proved with sympy by exact methods
(theory guide :ref:`theory-8`). From the command line, ``gdnp verify`` runs them all and
``gdnp verify --only gdnp`` one topic; from Python, :func:`gdnp.proofs.run_checks` returns one
result per check. A *discrepancy* is a published form shown *not* to hold as written.
"""

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
