module example.com/depbot

go 1.19
