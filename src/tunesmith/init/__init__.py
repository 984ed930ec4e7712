"""`tunesmith init`: look at a data file (or a folder of them) and write a commented recipe.

`sample` reads records spread over the file, `columns` says what each column holds, `roles` and
`shapes` find the label, leaks, groups and task-deciding shapes, `plan` decides, `recipe_text`
writes the recipe with every reason and runner-up beside its key, and `stage.write_recipe` does
all of it.
"""
