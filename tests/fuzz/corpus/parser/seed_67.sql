SELECT a -- comment
