SELECT * FROM a JOIN b WHERE a.id = b.id
