"""Operations on contract data sets.

``split`` (reproducible parts by document id), ``texts`` (a data set's texts as a corpus),
``stats`` (silver statistics, charts, HTML) and ``evaluate`` (exact-match scores against gold).
"""
