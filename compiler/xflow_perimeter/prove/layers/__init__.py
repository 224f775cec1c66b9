"""The verifier's layer checks: every request class of each bucket and network, decided by the
sweep (or one request at a time where it cannot decide) and compared with the spec's intent.

Each layer is checked alone (the endpoint policy as if every bucket allowed everyone; the bucket
policy as if every network and identity allowed everything); ``Verifier.combined`` then decides a
mismatch with both layers together. ``bucket`` checks a bucket policy (``service`` its AWS service
principals), ``endpoint`` an endpoint policy, ``schedule`` runs them all (in workers on large
specs), and ``mismatch`` holds what they find and how a sweep and its reference loop are chosen.
"""
