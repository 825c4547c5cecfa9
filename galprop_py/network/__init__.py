"""The nuclear network: radioactive decays (:mod:`.nuclides`), source compositions
(:mod:`.composition`) and cross sections chosen by name (:mod:`.cross_sections`)."""
