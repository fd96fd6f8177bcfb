"""ChIP-seq data steps: subsampling reads (:mod:`.subsample`) and binned coverage (:mod:`.coverage`)."""
