"""Policy synthesis and Terraform writing. In: a :class:`~xflow_perimeter.spec.model.Spec`.
Out: Terraform files on disk.

``grants`` flattens the spec's intent, ``statements`` turns it into endpoint and bucket policy
statements, ``plan`` lays them out as resources per module, ``limits`` (with ``compact``) holds
them to AWS's size limits, ``render`` writes the text through ``hclwriter`` (the one escaper)
and the ``templates/``, ``selfcheck`` reads it back, and ``output`` writes the files.
"""
