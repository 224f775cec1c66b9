"""The proof. In: a spec and the perimeter read from Terraform. Out: findings and explanations.

``request_classes`` and ``network_paths`` enumerate the requests that can differ, ``intent``
says what the spec expects of each, ``layers`` decides every class per bucket and per network
(with ``sweep`` deciding all callers at once, in ``workers``), ``verify`` turns mismatches into
findings, and ``explain`` answers single requests.
"""
