"""gridmap's benchmark suite (`make bench`): each measurement side by side with a baseline run
in the same process on the same data, at the reference district's scale, 100× and 1000×."""
