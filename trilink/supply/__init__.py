"""Economic security: export-control measures and country groups with effective dates
(:mod:`~trilink.supply.controls`), and the supply-chain early-warning system
(:mod:`~trilink.supply.series`, :mod:`~trilink.supply.detect`)."""
