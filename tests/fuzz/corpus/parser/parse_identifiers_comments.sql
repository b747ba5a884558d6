-- a line comment
SELECT UserId, userid, `UserId`, "Order Id", `select`, `from`, `a``b`, "x""y", `1st`, `_ok`, `has$dollar`, `ünïcode`, ünïcode2 FROM `My Table`;
/* a block
   comment */ SeLeCt a /* inline */ FrOm t -- trailing
;;
; SELECT `order`.`group` FROM `order`;
SELECT a AS `AS`, b AS "Mixed Case" FROM t AS `WHERE`;
SELECT a FROM t; -- the last statement needs no ';'
SELECT b FROM u
