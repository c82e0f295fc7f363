from carebinder.cli import main

main()
