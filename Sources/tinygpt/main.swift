import TinyGPT
print("tinygpt")
