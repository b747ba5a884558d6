 /* block
