"""`xflow diff`: who gains and who loses access to what between two versions of a perimeter.

``sides`` reads each version as verify does (refusing what verify refuses); ``engine`` decides
both over one common set of request classes (``origins``, ``classes``, ``exposure``) and groups
the differences (``grouping``, ``declared``); ``text``, ``json_format`` and ``markdown`` render
the report.
"""
