module example.com/newsfeed

go 1.19
