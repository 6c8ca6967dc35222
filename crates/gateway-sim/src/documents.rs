//! The files behind sample licenses: the annotated PDF (加注件) stamped with the reason of use, and scanned JPEGs.
