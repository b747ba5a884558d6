SELECT X'abc'
