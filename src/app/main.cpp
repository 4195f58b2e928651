// Placeholder entry point; the real command line lands with the app layer.
int main() { return 0; }
