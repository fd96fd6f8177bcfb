"""File formats, one per module: reads (BAM/BED), bigWig/bedGraph tracks, genome sizes, atomic output."""
