"""Reading Terraform back. In: a directory of ``.tf`` files. Out: the :class:`~.perimeter.Perimeter`.

``reader`` reads each file with ``fast_reader`` (the HCL xflow writes) or, for anything else,
``hcl2_reader`` (python-hcl2, its quirks and ``escapes`` kept there) into the ``records`` types;
``perimeter`` turns the records into endpoints, associations and bucket policies, refusing what
it cannot prove.
"""
