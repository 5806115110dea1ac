module casegraph

go 1.26.8
