SELECT `select`, "quoted col", `a``b`, "x""y", `Mixed`, mixed FROM `my table` AS `from`;
