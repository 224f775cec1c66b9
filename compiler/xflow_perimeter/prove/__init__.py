"""The proof. In: a spec and the perimeter read from Terraform. Out: findings and explanations.

``request_classes`` and ``network_paths`` enumerate the requests that can differ, ``intent``
says what the spec expects of each, ``verifier`` holds what every check shares, ``layers``
decides every class per bucket and per network (with ``sweep`` deciding all callers at once, in
``pool`` workers), ``checks`` are verify's passes (structure, egress, exposure, assertions),
``verify`` runs them into a report of ``findings``, and ``explain`` answers single requests.
"""
