"""The labs that train with Lightning or torch: lab 3.1's Jacobian through autograd, lab 3.2 (the main job and
its search), the CNN and RNN labs, and the report that gathers every lab (`report.build_report`).

The labs that need NumPy alone are in `course.labs`.
"""
