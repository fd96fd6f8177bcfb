"""One data module per task: :mod:`chipsr.tasks.chipseq` (reads -> coverage tracks)."""
