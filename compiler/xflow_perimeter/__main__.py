from xflow_perimeter.cli.main import main_and_exit

main_and_exit()
