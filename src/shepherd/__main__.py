from shepherd.entrypoints.cli import main

main()
