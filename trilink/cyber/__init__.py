"""Cyber threat sharing: STIX 2.1 objects over TAXII 2.1, under the agreements.

The cyber kind (:data:`trilink.sharing.agreements.DataKind.CYBER_INDICATOR`) carries STIX
2.1 bundles between national nodes. TLP 2.0 markings and the agreements in force combine,
the stricter winning (:mod:`trilink.cyber.rules`); every object sent or received passes
``stix2-validator`` (:mod:`trilink.cyber.validate`); each node serves what it holds over
TAXII 2.1 to the nations each object is released to (:mod:`trilink.cyber.taxii`).
"""
