"""The spec front-end. In: a YAML file. Out: a frozen, typed :class:`~.model.Spec`.

``source`` reads YAML with the position of every node, ``schema`` checks it against the JSON
Schema, ``model`` holds the frozen types and ``build`` makes them, with the semantic checks.
The catalogues it checks against live beside them: S3 actions (``actions``), Regions
(``regions``) and AWS-owned buckets (``aws_owned``), with their data in ``data/``.
"""
