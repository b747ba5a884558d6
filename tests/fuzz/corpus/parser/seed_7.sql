  addr ROW<city STRING, zip VARCHAR(10)>,
