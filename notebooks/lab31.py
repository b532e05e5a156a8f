# %% [markdown]
# # Lab 3.1: the computational graph and its Jacobian
#
# The lab's function $y = (y_1, y_2) = f(x_1, x_2, x_3)$, node by node:
#
# $$z_1 = 2x_1 + x_2,\ z_2 = 3x_1x_3,\ z_3 = -x_3,\ u_1 = \sin z_1,\ u_2 = 2x_3 + z_2,\ u_3 = 2z_1 + z_3$$
# $$v_1 = u_1 - u_3,\ v_2 = \sin(-u_2),\ v_3 = u_1u_3,\ y_1 = v_1^2 + v_2^3,\ y_2 = v_2v_3$$
#
# `LabGraph` (in `course/labs/lab31.py`) has one method per node, `forward` and an empty `backward`.
# **TODO**: write `backward`: the Jacobian $J_{ij} = \partial y_i / \partial x_j$, shape (2, 3), by reverse
# accumulation: seed $y_i$ with 1, send the gradient back through each node with its local derivative, and
# add up what arrives at $x_1, x_2, x_3$ (a node used twice, like $u_1$, gets the sum of both paths).

# %%
from course.kit.notebook import check, setup, show

ROOT = setup()
show("jacobian")

# %%
check("jacobian")

# %% [markdown]
# The lab's table: $Y$ and $J^T$ (rows $x$, columns $y$) at the three points.

# %%
from course.labs.lab31 import table

try:
    print(table())
except NotImplementedError as exc:
    print(exc)
