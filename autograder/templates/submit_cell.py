# Submit: save the notebook first (Ctrl+S / Cmd+S), then run this cell.
import sys

if "google.colab" in sys.modules:
    # Otter's export needs the notebook file on disk, which a Colab runtime does not have.
    print(
        "On Colab, submit the notebook itself: File > Download > Download .ipynb, then upload\n"
        "that file ($notebook) to Gradescope. Nothing else is needed."
    )
else:
    grader.export(pdf=False, run_tests=True)
    print(
        "Upload $notebook to Gradescope (preferred), or the zip file just created beside it;\n"
        "both are graded the same way."
    )
