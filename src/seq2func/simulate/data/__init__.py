"""Data files shipped with seq2func (see README.md)."""
