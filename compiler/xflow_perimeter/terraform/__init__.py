"""Reading Terraform back. In: a Terraform root. Out: the :class:`~.perimeter.Perimeter`.

``layout`` finds the module directories and the files Terraform reads in each; ``reader`` reads
each file with ``fast_reader`` (the HCL xflow writes, tokens from ``fast_tokens``), ``json_reader``
(``.tf.json``) or, for anything else, ``hcl2_reader`` (python-hcl2, its quirks and ``escapes``
kept there) into the ``records`` types, within the ``limits``, and merges override files
(``overrides``). ``closed_world`` (with ``catalogue``) judges every block; ``perimeter`` turns the
perimeter resources into endpoints, associations and bucket policies, refusing what it cannot prove.
"""
