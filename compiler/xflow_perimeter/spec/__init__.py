"""The spec front-end. In: a YAML file. Out: a frozen, typed :class:`~.model.Spec`.

``source`` reads YAML with the position of every node, ``schema`` checks it against the JSON
Schema (``quickcheck`` answers first for valid specs), ``model`` holds the frozen types and
``build`` makes them, with the semantic checks (``checker`` reads the entries the schema
accepted, ``references`` resolves names, ``hints`` words the fixes messages suggest).
The catalogues it checks against live beside them: S3 actions (``actions``), Regions
(``regions``) and AWS-owned buckets (``aws_owned``), with their data in ``data/``.
"""
