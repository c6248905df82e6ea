"""Case report forms as data: data dictionaries, edit checks, form instances, SDV."""
