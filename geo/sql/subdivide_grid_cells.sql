-- Small pieces of every cell of a generation: a point lookup then touches a few tiny boxes.
INSERT INTO grid_cell_part (grid_cell_id, geom)
SELECT gc.id, ST_Subdivide(gc.geom, 32)
FROM grid_cell gc
WHERE gc.generation_id = :generation_id
