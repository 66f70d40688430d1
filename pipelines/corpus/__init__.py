"""Raw corpora: files -> byte ranges -> records -> documents or dead letters.

``readers`` (text, JSON Lines, PubTator; globs, compressed files) and ``pubtator`` (the line
grammar it shares with the gold converter).
"""
